"""The store: SQLAlchemy models, Alembic migrations, content-addressed evidence and a service API.

Other stages call :class:`store.service.Store` and get plain dataclasses back
(:mod:`store.views`); they never see the ORM objects of :mod:`store.models`.
"""
