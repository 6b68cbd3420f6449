"""app: the planner's map (the only package, with streamlit_app.py, that imports streamlit)."""
