"""Landmark index sets of face regions on the MediaPipe 478-point mesh, as ordered contours.

"Left" and "right" are the subject's own (MediaPipe's convention): the left eye is on the image's right.
Tests check every consecutive pair against MediaPipe's own connection sets.
"""

FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
# Brows: lower arc outward-in, then upper arc inward-out (the two closing edges are ours).
RIGHT_BROW = (46, 53, 52, 65, 55, 107, 66, 105, 63, 70)
LEFT_BROW = (276, 283, 282, 295, 285, 336, 296, 334, 293, 300)
# Lips: each arc runs from the right mouth corner (61 outer, 78 inner) to the left one (291 / 308).
UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
# Nose: the points of MediaPipe's FACEMESH_NOSE, filled as their convex hull.
NOSE = (1, 2, 4, 5, 6, 19, 45, 48, 64, 94, 97, 98, 115, 168, 195, 197, 220, 275, 278, 294, 326, 327, 344, 440)

# Single points used by the describer.
MOUTH_RIGHT, MOUTH_LEFT, LIP_UPPER_INNER, LIP_LOWER_INNER = 61, 291, 13, 14
RIGHT_EYE_OUTER, LEFT_EYE_OUTER, NOSE_TIP, CHIN, FOREHEAD = 33, 263, 1, 152, 10
RIGHT_EYE_TOP, RIGHT_EYE_BOTTOM, LEFT_EYE_TOP, LEFT_EYE_BOTTOM = 159, 145, 386, 374
RIGHT_BROW_MID, LEFT_BROW_MID, RIGHT_BROW_INNER, LEFT_BROW_INNER = 105, 334, 55, 285
RIGHT_CHEEK, LEFT_CHEEK = 234, 454
