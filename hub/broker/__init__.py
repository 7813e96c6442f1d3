"""RabbitMQ edge: the topology (exchanges, queues, bindings) and the management API."""
