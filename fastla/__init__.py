"""fastla: compiled linear algebra for Python, a drop-in for numpy.linalg."""
