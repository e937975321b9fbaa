# SPDX-License-Identifier: MIT
# linux backend: nothing beyond the core's requirements.
