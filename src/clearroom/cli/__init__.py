"""The ``clearroom`` command: serve the centre, run workers, publish releases, start the demo."""
