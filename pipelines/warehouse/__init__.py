"""What lives in the warehouse besides the tables dlt loads: destinations, migrations, views, the report."""
