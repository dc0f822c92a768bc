import ivr.session.session as ss
from tests.qa.test_secrets_never_leak import test_pin_reset_and_failed_pins_leave_no_secret_anywhere as t

def test_neg_session(tmp_path, monkeypatch):
    monkeypatch.setattr(ss, "masked", lambda x: x)
    t(tmp_path, monkeypatch)

def test_neg_bundle(tmp_path, monkeypatch):
    import ivr.handoff.bundle as b
    orig = b.ContextBundle.from_dialog.__func__
    def leaky(cls, state, **kw):
        out = orig(cls, state, **kw)
        import dataclasses
        return dataclasses.replace(out, slots=dict(state.slots))
    monkeypatch.setattr(b.ContextBundle, "from_dialog", classmethod(leaky))
    t(tmp_path, monkeypatch)

def test_neg_render(tmp_path, monkeypatch):
    import ivr.dialog.render as r
    orig = r.Renderer.render
    monkeypatch.setattr(r.Renderer, "render", lambda self, t, env, lang, hidden=(): orig(self, t.replace("請輸入新的四位數電話密碼", "{new_pin}"), env, lang))
    t(tmp_path, monkeypatch)
