"""Write the demo staff's argon2id PIN hashes for the default seed to demo_pins.json (see demo.py)."""

from clienteling.central.demo import write_demo_pin_hashes

if __name__ == "__main__":
    print(write_demo_pin_hashes())
