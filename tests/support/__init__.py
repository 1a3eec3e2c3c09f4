"""Helpers the tests share: databases and servers on real sockets."""
