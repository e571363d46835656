"""What lives in the warehouse besides the tables dlt loads: destinations, views, the report."""
