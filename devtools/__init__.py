"""Development tools that are not part of the product or its wheel (the Alfresco simulator)."""
