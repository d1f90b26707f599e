"""Show code that lives in course_utils on a notebook page, so it is written once."""
import inspect

from IPython.display import Markdown


def show_source(obj):
    """A Markdown code block with the source of a function or class (rendered by the site)."""
    return Markdown(f"```python\n{inspect.getsource(obj).rstrip()}\n```")
