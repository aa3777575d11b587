"""The timeline (what plays when, how loud), the mixdown and mastering."""
