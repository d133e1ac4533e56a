"""The ``zhsearch`` command line and the settings it shares with the web app."""
