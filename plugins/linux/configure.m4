# linux backend: nothing beyond the core's requirements.
