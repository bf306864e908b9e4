# checkov loads external checks only from directories that hold an __init__.py.
