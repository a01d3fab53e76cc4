"""Network: a small CNN on real digits, every layer forward and backward, live training.

- routes.py: HTTP only (/network, /api/network/...);
- schemas.py: the Pydantic models of its requests and answers;
- service.py: runs, step pages, weight sets by id, the network's state (NetworkState);
- jobs.py: a training job's thread;
- store.py: where weight sets and jobs are kept (app/platform/shared.py: this process or
  Redis), who owns them (control tokens), the per-client quotas and the dead-worker reaper.
"""
