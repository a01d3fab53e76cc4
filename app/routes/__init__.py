"""The routers: pages (the page, health, samples), arrays (one route per seed function),
image (the page's one request) and steps (further step pages)."""
