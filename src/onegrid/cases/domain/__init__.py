"""The rules of a case in plain Python: states, the workflow table, numbers, the working-time
clock, time limits and lights. Nothing here touches a database or the web."""
