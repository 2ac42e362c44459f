"""What several of the executor's test modules share."""


class PlainYield:
    """One switch back to the scheduler, made anew each time: no yield ring, so a task that
    awaits it resumes on any worker without reading a ring another thread writes."""

    def __init__(self):
        self.armed = False

    def __iter__(self):
        return self

    __await__ = __iter__

    def __next__(self):
        if not self.armed:
            self.armed = True
            return None
        self.armed = False
        raise StopIteration


def plain_yield():
    return PlainYield()
