"""Everything that touches the outside: clocks, storage, deliveries, HTTP, the Sell client."""
