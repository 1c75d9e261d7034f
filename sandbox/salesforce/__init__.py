"""A local stand-in for the Salesforce REST API (OAuth, query/queryAll, describe, record and collection
writes, Bulk API 2.0 query jobs, limits), served over HTTPS. Run ``python -m sandbox.salesforce --help``.
"""

from __future__ import annotations
