"""Components (部件): the inventory of public facilities and the class taxonomy."""
