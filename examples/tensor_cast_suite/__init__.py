"""tensor_cast examples: the same caching pattern with ``UserInputConfig``.

The folder is not called ``tensor_cast``: a runner that puts ``examples/`` itself
on ``sys.path`` (``unittest discover -s examples`` without ``-t .``, or
``python -m pytest`` started inside ``examples/``) would then import this package
in place of the real tensor_cast.
"""
