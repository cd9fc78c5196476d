#include "common/departments.h"

namespace smz {
namespace {

// Based on the departments of the national foreign-patient report; extend by
// appending (codes are never renamed or reused).
constexpr Department kDepartments[] = {
    {"internal_medicine", "내과", "Internal medicine"},
    {"surgery", "외과", "General surgery"},
    {"orthopedics", "정형외과", "Orthopedics"},
    {"neurosurgery", "신경외과", "Neurosurgery"},
    {"neurology", "신경과", "Neurology"},
    {"cardiology", "심장내과", "Cardiology"},
    {"oncology", "종양내과", "Oncology"},
    {"obstetrics_gynecology", "산부인과", "Obstetrics and gynecology"},
    {"pediatrics", "소아청소년과", "Pediatrics"},
    {"dermatology", "피부과", "Dermatology"},
    {"plastic_surgery", "성형외과", "Plastic surgery"},
    {"ophthalmology", "안과", "Ophthalmology"},
    {"otorhinolaryngology", "이비인후과", "Otorhinolaryngology"},
    {"urology", "비뇨의학과", "Urology"},
    {"psychiatry", "정신건강의학과", "Psychiatry"},
    {"rehabilitation", "재활의학과", "Rehabilitation medicine"},
    {"family_medicine", "가정의학과", "Family medicine"},
    {"dentistry", "치과", "Dentistry"},
    {"korean_medicine", "한방", "Korean medicine"},
    {"burns", "화상", "Burn care"},
    {"checkup_center", "건강검진센터", "Health check-up centre"},
    {"emergency_medicine", "응급의학과", "Emergency medicine"},
    {"radiology", "영상의학과", "Radiology"},
    {"other", "기타", "Other"},
};

}  // namespace

absl::Span<const Department> Departments() { return kDepartments; }

bool IsDepartmentCode(absl::string_view code) {
  for (const Department& department : kDepartments) {
    if (department.code == code) return true;
  }
  return false;
}

}  // namespace smz
