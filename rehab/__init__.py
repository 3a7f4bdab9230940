"""The `rehab` command line: run the services, the demo, replays."""
