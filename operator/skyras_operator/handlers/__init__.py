"""kopf handlers, one module per resource served (imported by skyras_operator.main)."""
