"""Comment phrasings by language (``{a|b}`` is one of ``a``, ``b``): per topic, sentences that state it
(``CORE``) and details that add to it (``DETAIL``); openers and closers that name no topic."""
