"""Only the package layout lives here (the rest is pyproject.toml): the repository's
``plugins/<vendor>/`` folders install as ``runner.builtin.<vendor>``, inside runner's own
namespace, so no other distribution's top-level ``plugins`` package can overwrite them or take
them away when it is uninstalled (docs/design.md, "The connector door"); and the repository's
``schemas/`` installs as ``runner/schema_files/`` (package data: the committed JSON Schemas,
kept equal to what the code generates by tests/test_schemas.py), so a wheel carries them.
pyproject.toml alone cannot both find packages and install a folder under another name.
"""

from setuptools import find_packages, setup

BUILTIN = "runner.builtin"
SCHEMAS = "runner.schema_files"
SCAFFOLD = "runner.scaffold_files"  # runner init's templates: data, no code

setup(
    packages=[*find_packages(include=["runner", "runner.*"]),
              BUILTIN, *(f"{BUILTIN}.{p}" for p in find_packages("plugins")), SCHEMAS, SCAFFOLD],
    package_dir={BUILTIN: "plugins", SCHEMAS: "schemas"},
)
