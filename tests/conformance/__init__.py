"""Conformance: independent clients (ccxt) driven against the loopback fake venue (extra ``conformance``)."""
