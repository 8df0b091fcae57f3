"""The what-if dashboard (``python run.py dashboard``): a Streamlit page over the planning answers.

``logic`` decides which runs to make and which numbers to show (plain functions, tested without a
browser), ``charts`` draws the report's figures with Plotly, and ``app`` is the thin Streamlit script.
"""
