"""Only the package layout lives here (the rest is pyproject.toml): the repository's
``plugins/<vendor>/`` folders install as ``runner.builtin.<vendor>``, inside runner's own
namespace, so no other distribution's top-level ``plugins`` package can overwrite them or take
them away when it is uninstalled (docs/design.md, "The connector door"). pyproject.toml alone
cannot both find packages and install a folder under another name.
"""

from setuptools import find_packages, setup

BUILTIN = "runner.builtin"

setup(
    packages=[*find_packages(include=["runner", "runner.*"]),
              BUILTIN, *(f"{BUILTIN}.{p}" for p in find_packages("plugins"))],
    package_dir={BUILTIN: "plugins"},
)
