"""The extractive answerer: evidence features (``support``, ``holders``), candidate answers
(``extract``), premises and arithmetic, the draft and its citations (``draft``, ``cite``), the
hand-set numbers (``policy``), the learned decision (``decision/``) and the pipeline that runs them
(``answer``). Imports ``retrieval``, ``language`` and ``core``."""
