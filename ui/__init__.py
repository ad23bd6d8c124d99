"""Streamlit glue shared by the pages: cached loaders, thread settings, error display.

Only this package and the pages import streamlit; the engine ``cgd/`` never does.
"""
