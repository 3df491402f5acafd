from bot.harness import *  # noqa: F403  (the bench lives in bot/ so `coregroup demo` can use it)
