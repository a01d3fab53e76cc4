"""Learn: the exercise's eight functions walked step by step (the home page), its classic
mistakes and the diagnosis of a learner's output.

- routes.py: HTTP only (/learn, /api/learn/...);
- schemas.py: the Pydantic models of the API's answers;
- lesson.py: the lesson the page walks, built with core;
- service.py: the mistakes, their runs on probe cases, the .npy diagnosis.
"""
