"""One frozen configuration object per venue: credentials, base URL, batch size, pacing and adapter options.

A :class:`VenueConfig` is validated when it is built, so a bad setting is named (venue and field) before
a journal is opened or a request is built. Fields left unset fall back to the environment
(``SAFECANCEL_<VENUE>_API_KEY`` / ``_API_SECRET`` / ``_PASSPHRASE`` / ``_IDENTITY`` / ``_BASE_URL``, the
contract in the design) and then to the adapter's defaults. Explicit fields always win over the
environment, one field at a time::

    VenueConfig("bitget", base_url="https://testnet.example")   # credentials from SAFECANCEL_BITGET_*
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from .errors import InputError
from .model import Credentials
from .venues import Rate, venue_class

CREDENTIAL_FIELDS = ("api_key", "api_secret", "passphrase", "identity")


def env_name(venue: str, field: str) -> str:
    """The environment variable for one venue setting, e.g. ``SAFECANCEL_BITGET_PASSPHRASE``."""
    return f"SAFECANCEL_{venue.upper()}_{field.upper()}"


def credentials_from_env(venue: str, environ: Mapping[str, str] | None = None) -> Credentials | None:
    """Credentials from ``SAFECANCEL_<VENUE>_API_KEY`` / ``_API_SECRET`` / ``_PASSPHRASE`` / ``_IDENTITY``."""
    env = os.environ if environ is None else environ
    key, secret = env.get(env_name(venue, "api_key")), env.get(env_name(venue, "api_secret"))
    if not key and not secret:
        return None
    return Credentials(
        api_key=key or "",
        api_secret=secret or "",
        passphrase=env.get(env_name(venue, "passphrase")) or None,
        identity=env.get(env_name(venue, "identity")) or None,
    )


def base_url_from_env(venue: str, environ: Mapping[str, str] | None = None) -> str | None:
    """``SAFECANCEL_<VENUE>_BASE_URL`` as given (unchecked; empty means unset), or None."""
    env = os.environ if environ is None else environ
    return env.get(env_name(venue, "base_url")) or None


def pacing_from_env(venue: str, environ: Mapping[str, str] | None = None) -> str | None:
    """``SAFECANCEL_<VENUE>_PACING`` (empty means unset), or None; a value the venue does not take is an
    :class:`InputError` naming the variable."""
    env = os.environ if environ is None else environ
    name = env_name(venue, "pacing")
    value = env.get(name) or None
    if value is not None:
        from .pacing import check_pacing

        try:
            check_pacing(venue, value)
        except InputError as exc:
            raise InputError(f"{name}: {exc}") from None
    return value


def check_url(venue: str, url: str) -> str:
    """A base URL fit to prefix request paths, without its trailing slash; :class:`InputError` otherwise."""
    if not isinstance(url, str) or not url.isprintable() or any(c.isspace() for c in url):
        raise InputError(f"{venue}: base URL must be one line of printable characters without spaces")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is the check ("99999" and "abc" raise here)
    except ValueError as exc:
        raise InputError(f"{venue}: base URL is not a valid URL ({exc})") from None
    # User info first: a URL that carries credentials is never echoed back in an error message.
    if parts.username or parts.password:
        raise InputError(f"{venue}: base URL must not carry user info (credentials)")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{venue}: base URL {url!r} is not an http(s) URL")
    if parts.query or parts.fragment:
        raise InputError(f"{venue}: base URL must not carry a query or fragment")
    return url.rstrip("/")


def check_credentials(venue: str, creds: Any) -> None:
    """Credentials that can travel in HTTP headers and queries; the error names the field, never the value."""
    if not isinstance(creds, Credentials):
        # The type only: a caller who passed a bare secret string must not see it in a traceback.
        raise InputError(f"{venue}: credentials must be a Credentials, got a {type(creds).__name__}")
    for name in CREDENTIAL_FIELDS:
        value = getattr(creds, name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise InputError(f"{venue}: credential {name} must be a string, got a {type(value).__name__}")
        # They travel in HTTP headers and queries: printable ASCII only.
        if value and not (value.isascii() and value.isprintable() and value.strip() == value):
            raise InputError(
                f"{venue}: credential {name} contains characters that cannot be sent "
                "(control characters, non-ASCII, or surrounding spaces)"
            )


def _check_batch_size(venue: str, size: Any) -> None:
    # Only the type and sign: each adapter enforces its own upper bound when it is built.
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InputError(f"{venue}: batch size must be a positive integer, got {size!r}")


def _check_rate(venue: str, rate: Any) -> None:
    def number(x: Any) -> bool:  # a string or None here would raise TypeError in the comparisons below
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    ok = isinstance(rate, Rate) and number(rate.requests) and number(rate.per_seconds)
    ok = ok and rate.requests >= 1 and rate.per_seconds > 0
    if not ok:
        raise InputError(f"{venue}: rate must be a Rate(requests >= 1, per_seconds > 0), got {rate!r}")


def _check_options(venue: str, options: Any) -> Mapping[str, Any]:
    if not isinstance(options, Mapping):
        raise InputError(
            f"{venue}: options must be a mapping of option names to values, got a {type(options).__name__}"
        )
    for name in options:
        if not isinstance(name, str):
            raise InputError(f"{venue}: option names must be strings, got {name!r}")
    # A private copy behind a read-only view: the caller's dict can change later, this config cannot.
    return MappingProxyType(dict(options))


@dataclass(frozen=True, slots=True)
class VenueConfig:
    """How a :class:`~safecancel.Client` talks to one venue. Immutable; validated when built.

    Args:
        venue: the venue name (one of ``VENUE_NAMES``).
        credentials: the account's API credentials; None: ``SAFECANCEL_<VENUE>_API_KEY`` and friends,
            read when the venue is first used.
        base_url: the venue's endpoint, e.g. a testnet or the fake venue; None:
            ``SAFECANCEL_<VENUE>_BASE_URL``, else the adapter's production URL. Stored without a trailing slash.
        batch_size: ids per request, within what the adapter allows (it checks its own bounds);
            None: the venue's documented limit.
        rate: the request rate to pace both cancels and order queries at, instead of the documented
            defaults (for accounts with higher limits), e.g. ``Rate(2400, 60)``; None: the defaults.
            Cancels and queries then keep to it alone, outside the venue's shared budget (an account
            with other limits has another budget too).
        options: adapter options, e.g. ``{"trust_success_list": True}`` for bitget. Kept as a
            read-only copy; an option the adapter does not know is refused when the venue is first used.
        pacing: which documented reading of the venue's rate accounting to pace by, where its docs leave
            it open (the adapter's ``pacing_options``): for binance_coinm ``"orders"`` (the default:
            batch cancels also count against the per-account ORDERS limit, 1200/min) or ``"weight"``
            (only against the per-IP REQUEST_WEIGHT budget, up to 2400/min: about twice as fast, with
            the venue's 429 as the net if it does count them). None: ``SAFECANCEL_<VENUE>_PACING``, else the
            adapter's ``default_pacing``.

    Raises:
        InputError: naming the venue and the bad field (never a secret's value).
    """

    venue: str
    credentials: Credentials | None = None
    base_url: str | None = None
    batch_size: int | None = None
    rate: Rate | None = None
    # Left out of the hash: option values may be unhashable, and equal configs still hash alike.
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    pacing: str | None = None  # after options: a new field must not shift the positional ones

    def __post_init__(self) -> None:
        venue_class(self.venue)  # names an unknown venue
        if self.credentials is not None:
            check_credentials(self.venue, self.credentials)
        if self.base_url is not None:
            object.__setattr__(self, "base_url", check_url(self.venue, self.base_url))
        if self.batch_size is not None:
            _check_batch_size(self.venue, self.batch_size)
        if self.rate is not None:
            _check_rate(self.venue, self.rate)
        object.__setattr__(self, "options", _check_options(self.venue, self.options))
        if self.pacing is not None:
            from .pacing import check_pacing  # only when set: the pacing module is not needed to read a config

            check_pacing(self.venue, self.pacing)

    @classmethod
    def from_env(cls, venue: str, environ: Mapping[str, str] | None = None) -> VenueConfig:
        """The configuration the environment gives ``venue`` (``os.environ`` unless ``environ``).

        Credentials may be absent (then ``credentials`` is None): a client reports that only when the
        venue is used, because a client that never uses this venue needs none.
        """
        return cls(
            venue,
            credentials=credentials_from_env(venue, environ),
            base_url=base_url_from_env(venue, environ),
            pacing=pacing_from_env(venue, environ),
        )

    def with_env(self, environ: Mapping[str, str] | None = None) -> VenueConfig:
        """This configuration with its unset credentials, base URL and pacing filled from the environment.

        A field set here wins over the environment; credentials are taken as a whole (an explicit
        ``Credentials`` is never mixed with a passphrase from the environment).
        """
        return replace(
            self,
            credentials=self.credentials or credentials_from_env(self.venue, environ),
            base_url=self.base_url or base_url_from_env(self.venue, environ),
            pacing=self.pacing or pacing_from_env(self.venue, environ),
        )


__all__ = ["VenueConfig", "base_url_from_env", "check_credentials", "check_url", "credentials_from_env", "env_name"]


def venue_configs(venues: Mapping[str, VenueConfig] | Iterable[VenueConfig] | None) -> dict[str, VenueConfig]:
    """``venues=`` as a dict by venue name: a mapping whose keys match, or any iterable of configs."""
    if venues is None:
        return {}
    if isinstance(venues, (str, bytes)) or not isinstance(venues, (Mapping, Iterable)):
        raise InputError(
            f"venues must be VenueConfig objects (a list, or a mapping by venue name), got a {type(venues).__name__}"
        )
    pairs = list(venues.items()) if isinstance(venues, Mapping) else [(None, c) for c in venues]
    out: dict[str, VenueConfig] = {}
    for name, config in pairs:
        if not isinstance(config, VenueConfig):
            raise InputError(f"venues: expected VenueConfig objects, got a {type(config).__name__}")
        if name is not None and name != config.venue:
            raise InputError(f"venues: the key {name!r} holds the configuration of {config.venue!r}")
        if config.venue in out:
            raise InputError(f"venues: {config.venue} is configured twice")
        out[config.venue] = config
    return out


# The per-venue dicts Client took before VenueConfig; folded into VenueConfigs for one release.
DEPRECATED_ARGUMENTS = ("credentials", "base_urls", "batch_sizes", "venue_options", "rates")


def legacy_configs(given: Mapping[str, Mapping[str, Any]]) -> dict[str, VenueConfig]:
    """The deprecated per-venue dicts (argument name -> {venue: value}) as one VenueConfig per venue."""
    for argument, mapping in given.items():
        if not isinstance(mapping, Mapping):
            raise InputError(f"{argument} must be a mapping by venue name, got a {type(mapping).__name__}")
    names = list(dict.fromkeys(name for mapping in given.values() for name in mapping))
    empty: Mapping[str, Any] = {}
    return {
        name: VenueConfig(
            name,
            credentials=given.get("credentials", empty).get(name),
            base_url=given.get("base_urls", empty).get(name),
            batch_size=given.get("batch_sizes", empty).get(name),
            rate=given.get("rates", empty).get(name),
            options=given.get("venue_options", empty).get(name) or {},
        )
        for name in names
    }
