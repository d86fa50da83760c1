"""hadolint's package-manager rules, one module per package manager (apt, apk, yum and
dnf, zypper, pip, npm and yarn, gem, go), each rule declared beside its check."""

from __future__ import annotations

from deadweight.dockerfile.rule import Rule
from deadweight.dockerfile.rules.packages import apk, apt, gem, go, npm, pip, yum, zypper

# the order findings on one line are reported in (hadolint's)
RULES: tuple[Rule, ...] = (
    apt.DL3008,
    apt.DL3009,
    apt.DL3014,
    apt.DL3015,
    apt.DL3027,
    apk.DL3018,
    apk.DL3019,
    gem.DL3028,
    yum.DL3030,
    yum.DL3032,
    yum.DL3033,
    zypper.DL3034,
    zypper.DL3035,
    zypper.DL3036,
    zypper.DL3037,
    yum.DL3038,
    yum.DL3040,
    yum.DL3041,
    pip.DL3013,
    pip.DL3042,
    npm.DL3016,
    npm.DL3060,
    go.DL3062,
)
