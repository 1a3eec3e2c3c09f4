"""The baseline for bench/voice.py: a bare Flask app answering one constant TwiML document."""
from flask import Flask, Response
from twilio.twiml.voice_response import VoiceResponse

app = Flask(__name__)
_menu = VoiceResponse()
_gather = _menu.gather(input="dtmf speech", action="http://127.0.0.1/voice/rachel/language/1",
                       num_digits=1, timeout=5, language="en-US")
_gather.say("For English, press 1 or say English.", voice="Polly.Joanna-Neural", language="en-US")
_gather.say("Para español, oprima 2 o diga español.", voice="Polly.Lupe-Neural",
            language="es-US")
_menu.redirect("http://127.0.0.1/voice/rachel/language/1")
DOCUMENT = str(_menu).encode()


@app.route("/voice/rachel/", methods=["GET", "POST"])
@app.route("/voice/bare", methods=["GET", "POST"])
def constant() -> Response:
    return Response(DOCUMENT, mimetype="text/xml")
