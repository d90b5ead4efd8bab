"""Django's PostgreSQL backend with a health check that costs no round trip while the
connection is quiet.

``CONN_HEALTH_CHECKS`` makes Django run ``SELECT 1`` before a request's first query on a
connection kept from an earlier request, so that a server restart, or a backend ended by an
administrator or an idle timeout, costs a reconnect instead of a failed request. That is one
round trip on every request: a ticket create makes five others.

A connection between transactions has nothing to read unless the server ended it: the
server writes then (the FATAL message, then the end of the stream), and the socket turns
readable. So the check asks the socket first, without waiting; only a readable socket (or a
connection not idle) gets the ``SELECT 1`` of Django's own check, which then fails and makes
Django reconnect.
"""

from __future__ import annotations

import select

import psycopg
from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


def _quiet(fileno: int) -> bool:
    """Nothing waiting to be read on the socket and no error on it, asked without waiting."""
    poller = select.poll()
    poller.register(fileno, select.POLLIN | select.POLLPRI)
    return not poller.poll(0)  # POLLERR and POLLHUP are reported whatever was asked


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            idle = connection.info.transaction_status == TransactionStatus.IDLE
            if idle and _quiet(connection.pgconn.socket):
                return True
        except (OSError, ValueError, psycopg.Error):
            pass  # the socket is gone or odd: let the query decide
        return bool(super().is_usable())
