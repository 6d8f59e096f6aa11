"""``runner ui``: a small read-only web app over the run store (``runner/ui/``).

The rooms: :mod:`runner.ui.reader` (the store opened for reading only: the run list and its
filters, a run, a schedule's runs, the runs waiting or stuck), :mod:`runner.ui.pages` (the
server-rendered pages, Jinja2 with autoescape), :mod:`runner.ui.stored_report` (a stored run's
HTML report) and :mod:`runner.ui.app` (the Starlette app: routes and the token). Starlette is
imported only here, and only ``runner ui`` imports this package.
"""
