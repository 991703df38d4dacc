"""Who was asked: displays of the prompt, declines, contact rules and eligibility."""
