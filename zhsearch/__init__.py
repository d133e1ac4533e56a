"""The ``zhsearch`` command line (:mod:`zhsearch.cli`) and the settings it
shares with the web site (:mod:`zhsearch.settings`).

zhsearch runs on POSIX systems only (Linux, macOS): the index lock is an
``flock`` and full builds, ``serve --workers`` and the watch fork processes.
"""
