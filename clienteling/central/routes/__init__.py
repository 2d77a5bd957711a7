"""The centre's routes, one router per resource: customers, catalogue and stock, orders and returns, the feed."""
