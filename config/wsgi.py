"""The WSGI application, and a process made ready before its first request.

Importing every view now (through the URLconf) moves that work out of the first requests. Then the
garbage collector is run once and every object alive is frozen (`gc.freeze()`): the modules,
classes and settings a web process keeps for its whole life are no longer scanned by the
collector's full collections. Unfrozen, a full collection walked about 135,000 objects and held
the process (all its threads) for 60-150 ms under load, once every few thousand requests: the
largest stall in the submission benchmark's tail (BENCHMARKS.md, "Forecast submission"). Frozen
objects are never collected, which costs nothing for objects that live as long as the process.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
application = get_wsgi_application()

get_resolver().url_patterns  # noqa: B018 - imports every view module now
gc.collect()
gc.freeze()
