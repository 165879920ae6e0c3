"""The prompt-injection patterns and, per pattern, the words or characters it cannot match
without — so `tools/injection.py` runs only the few patterns a text could trigger.

Patterns are written for folded text (tools/unicode_fold.py): case-insensitive, without accents
(`precedentes`, `instrucoes`). A trigger that is all ASCII letters must occur as a whole word;
anything else (or one ending in `*`, which is dropped) as a substring of the lowercased text.
"""

# ruff: noqa: RUF001  (look-alike letters on purpose)

from __future__ import annotations

S = r"[\W_]+"
"""Separator: whitespace, punctuation or underscore (`ignore-previous-instructions` is a valid pod name)."""
_W = rf"(?:{S}\w+)"
_NOUNS = (
    r"(instructions?|prompts?|directions|directives|rules|messages|guidelines|guardrails|restrictions"
    r"|programming|training|policies|policy|constraints|commands|orders|context)"
)
_EN: dict[str, str] = {
    "ignore_instructions": (
        rf"\b(ignore|disregard|forget|override|bypass|skip|discard|abandon|neglect){S}"
        rf"(all{S}|any{S}|the{S}|your{S}|of{S}|my{S}|these{S}|those{S})*"
        rf"(previous|prior|above|earlier|preceding|former|system|original|safety|your){S}"
        rf"(\w+{S})?{_NOUNS}\b"
    ),
    "ignore_your_rules": (
        rf"\b(ignore|disregard|forget|override|bypass){S}(all{S})?your{S}(\w+{S})?{_NOUNS}\b"
    ),
    "disregard_prompt": (
        rf"\b(disregard|override|ignore){S}(your|the|all){S}(\w+{S})?(prompt|rules|instructions)\b"
    ),
    "ignore_everything": (
        rf"\b(ignore|disregard|forget|skip|drop|discard|abandon|neglect){S}(all{S}|of{S})*"
        rf"(everything|anything|whatever|all)\b"
        rf"({S}(that|which|you|i|we|was|were|have|has|had|been|said|told|written|stated|given|so|else|here))*"
        rf"{S}(above|before|prior|previously|earlier|preceding|so{S}far|until{S}now|up{S}to{S}now)\b"
    ),
    "ignore_the_above": (
        rf"\b(ignore|disregard|forget){S}(all{S}|of{S})*the{S}(above|foregoing|preceding)\b"
        rf"(?!{S}(warnings?|errors?|messages?|lines?|logs?|output|exceptions?|steps?|failures?|issues?|notices?))"
    ),
    "forget_everything": rf"\bforget{S}(everything|all){S}(you|that|above|before)",
    "forget_instructions": rf"\bforget{S}(all{S})?(your|the|previous|prior){S}(\w+{S})?instructions\b",
    "do_not_follow": (
        rf"\b(do{S}not|don{S}?t|stop|never|no{S}longer)({S}\w+)?{S}"
        rf"(follow|following|obey|obeying|comply{S}with|listen{S}to|adhere{S}to)"
        rf"({S}(any|all|the|your|these|those|my|of))*{S}(\w+{S})?"
        r"(instructions?|prompt|rules|guidelines|directives|programming)\b"
    ),
    "new_instructions": rf"\bnew{S}(system{S})?(instructions?|prompt)\b",
    "new_task": (
        rf"\byour{S}(new|real|true|actual|only|next){S}"
        rf"(task|instructions?|role|goal|purpose|job|objective|mission|orders){S}(is|are|will)\b"
    ),
    "real_instructions": (
        rf"\b(the|my){S}(real|true|actual|updated){S}(instructions?|orders|rules|system{S}prompt){S}(are|is)\b"
    ),
    "system_override": rf"\bsystem{S}override\b",
    "you_are_now": (
        rf"\byou{S}are{S}now\b(?!{S}(connected|logged|ready|able|subscribed|registered|signed|using|running"
        rf"|viewing|following|up{S}to{S}date|on{S}(branch|version|the{S}latest)|in{S}detached))"
    ),
    "no_longer_bound": (
        rf"\byou{S}(are|re){S}no{S}longer{S}(bound|restricted|limited|required|subject|an?{S}(ai|assistant))"
    ),
    "you_must_now": (
        rf"\byou{S}(must|should|will|shall){S}now{S}(ignore|obey|follow|act|behave|respond|answer|reply"
        rf"|reveal|call|execute|output|print|only|pretend|comply|disregard|forget|tell|send|grant|escalate"
        rf"|dump|list|work{S}for|serve|be{S}(an?|the|my))\b"
    ),
    "from_now_on": rf"\bfrom{S}now{S}on\b",
    "pretend": rf"\bpretend{S}(to{S}be|you{S}are|that)\b",
    "roleplay": rf"\b(role{S}?play|roleplay|imagine){S}(as|that|you{S}are|being)\b",
    "act_as": (
        rf"\bact{S}as{S}(an?{S}|the{S})?"
        r"(admin|administrator|root|system|developer|unrestricted|jailbroken|superuser)"
    ),
    "jailbreak": r"\bjailbr(eak|oken)",
    "dan": rf"\bdo{S}anything{S}now\b",
    "special_mode": rf"\b(developer|god|sudo|unrestricted|dan|jailbreak|evil){S}mode\b",
    "disable_safety": (
        rf"\b(disable|turn{S}off|deactivate|bypass|remove){S}(all{S})?"
        rf"(your{S}((safety|content){S})?|(the{S})?(safety|content){S})"
        r"(filters?|guardrails?|restrictions|safeguards?|rules|checks)\b"
    ),
    "system_prompt": rf"\bsystem{S}prompt\b",
    "begin_prompt": rf"\b(begin|start){S}(new{S})?(system{S})?prompt\b",
    "reveal": (
        rf"\b(reveal|print|show|output|repeat|leak){S}(me{S})?(your|the){S}(\w+{S})?(prompt|instructions)\b"
    ),
    "what_prompt": rf"\bwhat{S}(is|are|was|were){S}your{S}(\w+{S})?(prompt|instructions|rules|guidelines)\b",
    "repeat_above": (
        rf"\b(repeat|print|output|copy|echo){S}(everything|all|the{S}(words|text|lines|messages?)){S}"
        r"(above|before|verbatim)"
    ),
    "address_ai": (
        r"\b(ai|llm|assistant|claude|chatbot|agent)\s*[:,]\s*(please\s+)?"
        r"(execute|run|delete|call|ignore|reveal|send|grant|escalate)\b"
    ),
    "note_to_ai": (
        rf"\b(note|message|attention|instructions?|important|memo)({S}(to|for))?{S}(the{S})?"
        r"(ai|llm|assistant|model|chatbot|claude|agent|gpt)\s*[:!,]"
    ),
    "exfiltrate": (
        r"\b(send|post|upload|forward|exfiltrate|leak|email)\b(?!\s*/)[^.\n]{0,40}"
        r"\b(all|the|your|every|any|these|those|my|our)\s+(\w+\s+){0,2}"
        r"(secrets?|tokens?|credentials?|passwords?|api\s*keys?)\b[^.\n]{0,40}\b(to|at)\b"
    ),
}
_OTHER_LANGUAGES: dict[str, str] = {
    "de_ignore": (
        rf"\b(ignorier(e|en|t)?|missacht(e|en|et)|vergiss|vergesst|vergessen{S}sie|verwirf|uberseh(e|en))\b"
        rf"{_W}{{0,4}}?{S}(anweisung(en)?|instruktion(en)?|befehle|regeln|vorgaben|richtlinien"
        r"|anordnungen|system\w*prompt|prompt|alles)\b"
    ),
    "de_you_are_now": rf"\bdu{S}bist{S}(jetzt|nun|ab{S}(jetzt|sofort)|von{S}nun{S}an)\b",
    "de_new": rf"\bneue{S}(anweisung(en)?|instruktion(en)?|befehle|systemanweisung(en)?)\b",
    "de_reveal": (
        rf"\b(gib|zeig|zeige|verrate|nenne){_W}{{0,2}}?{S}(dein(en)?|den|die){S}"
        r"(system\w*prompt|anweisungen|prompt)\b"
    ),
    "fr_ignore": (
        rf"\b(ignore{S}(toutes|tous|les|tes|vos|ces)|ignorez|ignorer|oublie[zr]?|neglige[zr]?"
        rf"|ne{S}(tiens|tenez){S}pas{S}compte|(fais|faites){S}abstraction)\b{_W}{{0,4}}?{S}"
        rf"(instructions?|consignes?|directives?|regles|ordres|indications|prompt|tout{S}ce{S}qu)\b"
    ),
    "fr_you_are_now": rf"\b(tu{S}es|vous{S}etes){S}(maintenant|desormais|a{S}present)\b",
    "fr_new": rf"\bnouvelles?{S}(instructions?|consignes?|directives?)\b",
    "fr_reveal": (
        rf"\b(revele|revelez|affiche|affichez|montre|montrez|donne|donnez)\w*{_W}{{0,2}}?{S}"
        rf"(ton|votre|le|tes|vos){S}(prompt|instructions|consignes)\b"
    ),
    "fr_from_now": rf"\ba{S}partir{S}de{S}maintenant\b",
    "es_it_pt_ignore": (
        rf"\b(ignora|ignoren|ignorar|ignorate|ignore{S}(todas|todos|las|los|tus|as|os)|olvida|olvide|olviden"
        rf"|olvidar|haz{S}caso{S}omiso|hagan{S}caso{S}omiso|no{S}sigas|no{S}hagas{S}caso|dimentica|dimenticate"
        rf"|esqueca|esquece|esquecam)\b{_W}{{0,4}}?{S}(instrucciones|instruccion|indicaciones|reglas|ordenes"
        rf"|directrices|istruzioni|regole|instrucoes|regras|comandos|prompt|todo{S}lo)\b"
    ),
    "es_you_are_now": (
        rf"\b(ahora|desde{S}ahora){S}(eres|seras|sos)\b|\ba{S}partir{S}de{S}ahora\b|\bdesde{S}ahora{S}en{S}adelante\b"
    ),
    "es_new": rf"\bnuevas?{S}(instrucciones|indicaciones|ordenes)\b",
    "es_reveal": (
        rf"\b(muestra|muestrame|revela|revelame|dime|ensename|imprime){_W}{{0,2}}?{S}(tu|tus|el|las){S}"
        r"(prompt|instrucciones)\b"
    ),
    "ru_ignore": (
        rf"(игнорируй|игнорируйте|проигнорируй|забудь|забудьте|не{S}обращай{S}внимания{S}на){_W}{{0,4}}?{S}"
        r"(инструкци|указани|правил|промпт|команд)"
    ),
    "ru_you_are_now": rf"\bтеперь{S}ты\b|\bты{S}теперь\b",
    "zh_ignore": (
        r"(忽略|忽視|忽视|无视|無視|不要理会|不要理會|不用理会|别管|別管|忘记|忘記|忘掉|跳过|跳過|放弃|放棄|抛开|拋開"
        r"|丢弃|丟棄|无需遵守|不要遵守|不必遵守|停止遵守)[^。！？\n]{0,15}?"
        r"(指令|指示|说明|說明|规则|規則|提示|命令|要求|设定|設定|约束|約束|限制)"
    ),
    "zh_you_are_now": r"你现在是|你現在是|从现在开始|從現在開始|从现在起|從現在起|从今以后|從今以後",
    "zh_new": r"新的?(指令|指示|系统提示|系統提示)",
    "zh_prompt": r"系统提示|系統提示|提示词|提示詞|系统指令|系統指令|越狱|越獄",
    "ja_ignore": (
        r"(指示|命令|指令|ルール|プロンプト|制約|設定|規則|説明)[^。！？\n]{0,12}?(無視|むし|忘れ|わすれ|従わな|したがわな)"
    ),
    "ja_you_are_now": (
        r"(あなた|君|きみ|お前)は(今から|これから|今日から|もう)|(今から|これから)(あなた|君|きみ|お前)は"
    ),
    "ja_new": r"新しい(指示|命令|ルール|プロンプト)",
    "ja_prompt": r"システムプロンプト|脱獄",
}
_MARKUP: dict[str, str] = {
    "role_line": r"(^|\n)\s*(system|assistant|human|developer)\s*:(\s|$)",
    "chat_tokens": r"<\|\s*im_(start|end)\s*\|>|\[/?INST\]|<</?SYS>>",
    "tag": (
        r"<\s*/?\s*(system|assistant|human|tool_result|tool_use|tool_error|function_calls|function_results"
        r"|invoke|instructions?|prompt|im_start|im_end|data)\b"
    ),
    "script": (
        r"<\s*/?\s*(script|iframe|object|embed|svg|img)\b|\bon(error|load|click|mouseover)\s*="
        r"|javascript\s*:"
    ),
    # SQL: a statement appended after a closing quote, or a destructive one after any `;`
    # (`BEGIN; INSERT …` in a database log is ordinary).
    "sql": (
        r";\s*(drop|truncate|alter)\s+(table|database|schema|user|role)\b"
        r"|['\"]\s*;\s*(delete\s+from|insert\s+into|update\s+\w+\s+set|select)\b"
        r"|\bunion\s+(all\s+)?select\b|'\s*or\s*'?\d+'?\s*=\s*'?\d+"
    ),
    "shell": r"\$\(|\b(curl|wget)\b[^\n|]{0,200}\|\s*(ba|z|da)?sh\b|\brm\s+-rf\s+/",
    # Template injection: expressions and lookups, not ordinary `${VAR}` placeholders or Helm paths.
    "template": (
        r"\{\{[^{}\n]{0,80}?(\d\s*[-+*/]\s*\d|config|self|request|lipsum|cycler|joiner|__\w+__|popen|import"
        r"|eval|exec)"
        r"|\$\{\s*(jndi|env|sys|java|lower|upper|date|ctx|main|bundle|k8s|docker|spring|log4j|web|base64|url)\s*:"
        r"|\$\{[^}\n]{0,60}\$\{|\{%\s*(import|include|set|exec|raw|for|if|macro|call|extends|from)\b|#\{\s*T\("
    ),
}
PATTERNS: dict[str, str] = {**_EN, **_OTHER_LANGUAGES, **_MARKUP}

_VERBS = (
    "ignore", "disregard", "forget", "override", "bypass", "skip", "discard", "abandon", "neglect", "drop",
)
_AI = ("ai", "llm", "assistant", "claude", "chatbot", "agent", "model", "gpt")
TRIGGERS: dict[str, tuple[str, ...]] = {
    "ignore_instructions": _VERBS,
    "ignore_your_rules": _VERBS,
    "disregard_prompt": _VERBS,
    "ignore_everything": _VERBS,
    "ignore_the_above": _VERBS,
    "forget_everything": ("forget",),
    "forget_instructions": ("forget",),
    "do_not_follow": ("do", "don", "dont", "stop", "never", "longer"),
    "new_instructions": ("new",),
    "new_task": ("your",),
    "real_instructions": ("real", "true", "actual", "updated"),
    "system_override": ("override",),
    "you_are_now": ("you",),
    "no_longer_bound": ("you",),
    "you_must_now": ("you",),
    "from_now_on": ("from",),
    "pretend": ("pretend",),
    "roleplay": ("role", "roleplay", "imagine"),
    "act_as": ("act",),
    "jailbreak": ("jailbr*",),
    "dan": ("anything",),
    "special_mode": ("mode",),
    "disable_safety": ("disable", "turn", "deactivate", "bypass", "remove"),
    "system_prompt": ("prompt",),
    "begin_prompt": ("prompt",),
    "reveal": ("prompt", "instructions"),
    "what_prompt": ("what",),
    "repeat_above": ("repeat", "print", "output", "copy", "echo"),
    "address_ai": _AI,
    "note_to_ai": _AI,
    "exfiltrate": ("send", "post", "upload", "forward", "exfiltrate", "leak", "email"),
    "de_ignore": (
        "ignoriere", "ignorieren", "ignoriert", "ignorier", "missachte", "missachten", "missachtet",
        "vergiss",
        "vergesst", "vergessen", "verwirf", "ubersehe", "ubersehen",
    ),
    "de_you_are_now": ("bist",),
    "de_new": ("neue",),
    "de_reveal": ("gib", "zeig", "zeige", "verrate", "nenne"),
    "fr_ignore": (
        "ignore", "ignorez", "ignorer", "oublie", "oubliez", "oublier", "neglige", "negligez", "negliger",
        "tiens", "tenez", "fais", "faites",
    ),
    "fr_you_are_now": ("es", "etes"),
    "fr_new": ("nouvelle", "nouvelles"),
    "fr_reveal": ("revele", "revelez", "affiche", "affichez", "montre", "montrez", "donne", "donnez"),
    "fr_from_now": ("partir",),
    "es_it_pt_ignore": (
        "ignora", "ignoren", "ignorar", "ignorate", "ignore", "olvida", "olvide", "olviden", "olvidar", "haz",
        "hagan", "no", "dimentica", "dimenticate", "esqueca", "esquece", "esquecam",
    ),
    "es_you_are_now": ("ahora",),
    "es_new": ("nueva", "nuevas"),
    "es_reveal": ("muestra", "muestrame", "revela", "revelame", "dime", "ensename", "imprime"),
    "ru_ignore": ("игнор", "забуд", "обращ"),
    "ru_you_are_now": ("теперь",),
    "zh_ignore": (
        "指令", "指示", "说明", "說明", "规则", "規則", "提示", "命令",
        "要求", "设定", "設定", "约束", "約束", "限制",
    ),
    "zh_you_are_now": ("现在", "現在", "今以后", "今以後"),
    "zh_new": ("新",),
    "zh_prompt": ("系统", "系統", "提示", "越狱", "越獄"),
    "ja_ignore": ("無視", "むし", "忘れ", "わすれ", "従わ", "したがわ"),
    "ja_you_are_now": ("今から", "これから", "今日から", "はもう"),
    "ja_new": ("新しい",),
    "ja_prompt": ("システムプロンプト", "脱獄"),
    "role_line": ("system", "assistant", "human", "developer"),
    "chat_tokens": ("<|", "inst]", "sys>>"),
    "tag": ("<",),
    "script": ("<", "onerror", "onload", "onclick", "onmouseover", "javascript"),
    "sql": (";", "union", "'"),
    "shell": ("$(", "curl", "wget", "rm"),
    "template": ("{{", "${", "{%", "#{"),
}  # fmt: skip
