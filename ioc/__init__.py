"""Composition root: settings, app assembly and the ``ioc`` command line."""
