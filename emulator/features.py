"""The tenant's global features and which are switched on: the one place the switches live.

A tenant switches global features on or off; a call to one that is off answers 400 Bad Request, not 404 (the
Filing sample's README says so of Bookmarks and Page View Analytics [confirmed: sharedo_api_samples
`documents/filing/readme.md`]; assumed of the others [inferred]). A solution sets them in operate.toml:

    [features]
    Bookmarks = true
    Notifications = true
    UserAvatars = true

A solution without `[features]` is a tenant with every feature off; the demo solution switches on the ones the
emulator emulates. The system names are the mobile app's spelling for Bookmarks [confirmed: sharedo-sample-
mobile-app `bookmarksAgent.js`] and [inferred] for the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Feature:
    system_name: str
    title: str
    emulated: bool  # False: it can only be off here (switching it on is refused at load, by name)


FEATURES: tuple[Feature, ...] = (
    Feature("Bookmarks", "Bookmarks", True),
    Feature("Notifications", "Notifications", True),
    Feature("UserAvatars", "User avatars", True),
    Feature("PageViewAnalytics", "Page View Analytics", False),
)
BY_NAME = {f.system_name.lower(): f for f in FEATURES}


class FeatureError(ValueError):
    """A `[features]` table the emulator cannot honour; the message names the key."""


class FeatureSwitches:
    """Which global features this tenant has on, from operate.toml `[features]`."""

    def __init__(self, config: Any = None, where: str = "operate.toml [features]") -> None:
        self.on: set[str] = set()
        if config is None:
            return
        if not isinstance(config, dict):
            raise FeatureError(f"{where} must be a table of feature = true | false")
        seen: dict[str, str] = {}
        for key, value in config.items():
            feature = BY_NAME.get(str(key).lower())
            if feature is not None and feature.system_name in seen:  # names match in any case: neither wins
                raise FeatureError(
                    f"{where}: {seen[feature.system_name]!r} and {key!r} switch the same feature; keep one"
                )
            if feature is not None:
                seen[feature.system_name] = str(key)
            if feature is None:
                known = ", ".join(f.system_name for f in FEATURES)
                raise FeatureError(f"{where}: unknown feature {key!r} (known: {known})")
            if not isinstance(value, bool):
                raise FeatureError(f"{where}: {key} must be true or false, not {value!r}")
            if value and not feature.emulated:
                raise FeatureError(
                    f"{where}: {feature.system_name} cannot be switched on: not emulated (its routes answer as a "
                    "tenant with it off) — see /_emulator/fidelity"
                )
            if value:
                self.on.add(feature.system_name)

    def enabled(self, name: str) -> bool:
        """Whether the feature is on; a name the tenant does not know is off [inferred]."""
        feature = BY_NAME.get(name.lower())
        return feature is not None and feature.system_name in self.on

    def title(self, name: str) -> str:
        return BY_NAME[name.lower()].title
