"""Connectors: the retailer's back-office platforms on one side, the centre's ingest and event interfaces on the other.

Each connector knows a platform's own SDK and the centre's HTTP interfaces (`POST /v1/ingest/{collection}`,
`GET /v1/events`); never the device or the screens. `commercetools` is the first.
"""
