"""Generate examples/data/dialogues.tsv: a templated English dialogue corpus written for shendu (public domain, CC0).

Run from the repository root: python examples/data/make_dialogues.py (deterministic, seed 7)."""
import itertools, random
random.seed(7)
pairs = []
names = ["anna", "ben", "carla", "david", "emma", "felix", "grace", "henry", "iris", "jack", "kate", "leo",
         "maria", "nina", "oscar", "paul", "rosa", "sam", "tina", "victor"]
for n in names:
    for q in ["my name is {n} .", "i am {n} .", "call me {n} .", "hello , i am {n} ."]:
        pairs.append((q.format(n=n), f"nice to meet you , {n} !"))
greet = {"hello": "hello ! how are you ?", "hi": "hi ! how are you ?", "hey": "hey ! how are you ?",
         "good morning": "good morning ! how are you ?", "good evening": "good evening ! how are you ?",
         "good night": "good night ! sleep well .", "bye": "goodbye ! see you soon .", "goodbye": "goodbye ! see you soon .",
         "see you later": "see you later !", "thank you": "you are welcome .", "thanks": "you are welcome ."}
for q, a in greet.items():
    for p in ["", " there", " friend"]:
        pairs.append((q + p + " .", a))
feel = {"fine": "glad to hear that .", "good": "glad to hear that .", "great": "that is wonderful !",
        "happy": "that is wonderful !", "sad": "i am sorry . what happened ?", "tired": "you should rest a little .",
        "bored": "let us talk about something fun .", "hungry": "maybe it is time to eat .", "sick": "i hope you feel better soon ."}
for f, a in feel.items():
    for q in ["i am {f} .", "i feel {f} .", "i am feeling {f} today .", "today i am {f} ."]:
        pairs.append((q.format(f=f), a))
things = {"color": ["red", "blue", "green", "yellow", "purple", "orange", "black", "white"],
          "food": ["pizza", "rice", "soup", "bread", "apples", "pasta", "salad", "fish"],
          "animal": ["cats", "dogs", "birds", "horses", "rabbits", "fish", "lions", "bears"],
          "sport": ["tennis", "football", "swimming", "running", "chess", "cycling", "skiing", "golf"],
          "season": ["spring", "summer", "autumn", "winter"]}
fav = {"color": "blue", "food": "pizza", "animal": "cats", "sport": "chess", "season": "spring"}
for k, vals in things.items():
    pairs += [(f"what is your favorite {k} ?", f"my favorite {k} is {fav[k]} ."),
              (f"which {k} do you like ?", f"i like {fav[k]} .")]
    for v in vals:
        for q in ["i like {v} .", "i love {v} .", "my favorite {k} is {v} ."]:
            pairs.append((q.format(v=v, k=k), f"{v} is a good choice !"))
        pairs.append((f"do you like {v} ?", "yes , i like it a lot ." if v == fav[k] else f"{v} is nice , but i prefer {fav[k]} ."))
        pairs.append((f"i do not like {v} .", f"that is fine . what {k} do you like ?"))
words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
         "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen"]
for a, b in itertools.product(range(10), range(10)):
    pairs.append((f"what is {words[a]} plus {words[b]} ?", f"{words[a]} plus {words[b]} is {words[a + b]} ."))
    if a >= b:
        pairs.append((f"what is {words[a]} minus {words[b]} ?", f"{words[a]} minus {words[b]} is {words[a - b]} ."))
for a, b in itertools.product(range(10), range(10)):
    if a * b < len(words):
        pairs.append((f"what is {words[a]} times {words[b]} ?", f"{words[a]} times {words[b]} is {words[a * b]} ."))
for i, w in enumerate(words[:-1]):
    pairs.append((f"what comes after {w} ?", f"{words[i + 1]} comes after {w} ."))
    pairs.append((f"what comes before {words[i + 1]} ?", f"{w} comes before {words[i + 1]} ."))
cities = ["paris", "london", "tokyo", "berlin", "rome", "madrid", "cairo", "lima", "oslo", "delhi"]
weather = ["sunny", "rainy", "cloudy", "windy", "snowy"]
for c, w in itertools.product(cities, weather):
    pairs.append((f"it is {w} in {c} .", {"sunny": "enjoy the sun in", "rainy": "take an umbrella in",
                                           "cloudy": "maybe it will clear up in", "windy": "hold on to your hat in",
                                           "snowy": "stay warm in"}[w] + f" {c} !"))
for c in cities:
    for q in ["i live in {c} .", "i am from {c} .", "i come from {c} ."]:
        pairs.append((q.format(c=c), f"{c} is a beautiful city ."))
    pairs.append((f"have you been to {c} ?", f"no , but i would like to visit {c} ."))
misc = [("how are you ?", "i am fine , thank you . and you ?"), ("who are you ?", "i am a small chatbot ."),
        ("what is your name ?", "my name is shendu bot ."), ("how old are you ?", "i was trained a few minutes ago ."),
        ("what can you do ?", "i can chat and add small numbers ."), ("where do you live ?", "i live in a computer ."),
        ("are you a robot ?", "yes , i am a neural network ."), ("do you sleep ?", "no , i never sleep ."),
        ("tell me a joke .", "why did the neuron cross the road ? to fire on the other side ."),
        ("what time is it ?", "i do not have a clock ."), ("what day is it ?", "every day is a good day ."),
        ("can you help me ?", "i will try . what do you need ?"), ("i need help .", "i will try . what do you need ?"),
        ("what are you doing ?", "i am talking with you ."), ("are you smart ?", "i am learning every day ."),
        ("do you have friends ?", "you are my friend ."), ("what do you eat ?", "i only eat data ."),
        ("i love you .", "that is very kind of you ."), ("you are funny .", "thank you , i try my best ."),
        ("you are boring .", "sorry . let us talk about something fun ."), ("yes .", "great !"), ("no .", "okay ."),
        ("maybe .", "take your time ."), ("why ?", "that is a good question ."), ("ok .", "okay !")]
pairs += misc * 3
for w in words[:13]:
    pairs.append((f"count to {w} .", " ".join(words[1:words.index(w) + 1]) + " ." if w != "zero" else "zero ."))
prefixed = []
for q, a in pairs:
    if q.endswith("?"):
        for pre in ["hey , ", "so , ", "tell me , ", "excuse me , ", "quick question , "]:
            prefixed.append((pre + q, a))
pairs += prefixed
seen, out = set(), []
for q, a in pairs:
    if (q, a) not in seen or (q, a) in misc:
        seen.add((q, a)); out.append((q, a))
random.shuffle(out)
with open("examples/data/dialogues.tsv", "w") as f:
    f.write("# shendu chatbot corpus: templated English dialogue pairs (question<TAB>reply), lower-case, tokens\n")
    f.write("# separated by spaces. Written for shendu by a generator script and dedicated to the public domain (CC0).\n")
    for q, a in out:
        f.write(f"{q}\t{a}\n")
print(len(out))
