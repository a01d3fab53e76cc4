"""What `pip install .` puts in the wheel (the rest of the project's description is
pyproject.toml's): every package of core, app and cli, found (a new subpackage needs no edit
here), their data files, and the top-level static/ and templates/ installed inside the app
package as app/static and app/templates, where app looks for them first (app/main.py)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["core", "core.*", "app", "app.*", "cli", "cli.*"]),
              "app.static", "app.templates"],
    package_dir={"app.static": "static", "app.templates": "templates"},
    package_data={
        "core.data": ["*.npz", "*.safetensors", "*.json", "*.md"],
        "app.platform": ["samples/*"],
        "app.static": ["**/*"],
        "app.templates": ["*.html"],
    },
)
