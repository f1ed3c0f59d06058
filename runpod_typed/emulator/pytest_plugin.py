"""pytest fixtures that start the RunPod emulator on a free loopback port."""
